"""A run of a job across attempts and deferrals: its state, its steps, its result. Pure."""
