"""One screen per flow step or top-level function; each speaks its prompt on arrival."""
