"""Pure domain logic: no SQL, no HTTP, no threads, no wall clock."""
