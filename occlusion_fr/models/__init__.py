"""Networks of the study: the base CNN with its LMCL head, and the occlusion segmenter."""
