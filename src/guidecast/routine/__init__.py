"""Load: routine files to a validated `Routine`, every problem located."""
