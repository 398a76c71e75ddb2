"""Feature discarding: mask generators (PDSN), the mask dictionary and feature discarding masks."""
