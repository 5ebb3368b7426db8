"""Loop-nest transformations on a kernel's Python source, legality-checked."""
