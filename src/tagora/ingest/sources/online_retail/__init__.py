"""UCI "Online Retail" transaction lines."""
