"""Content: items, their types and fields, and the stage-aware reads every consumer goes through."""
