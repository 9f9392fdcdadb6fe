"""Worker-side submission per backend: what the operator calls to adopt, submit, wait on and cancel."""
