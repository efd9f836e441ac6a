"""Helpers shared by the test suite: real servers on loopback, the RunPod spec, databases."""
