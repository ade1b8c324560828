"""Glue for the places infralint runs in: the GitHub Action's steps and job summary."""
