"""mediaindex: scan, pipeline, queries and the command line over the analyzers and the store."""
