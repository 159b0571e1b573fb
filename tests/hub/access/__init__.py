"""Tests of the hub's access room: accounts, sign-ins, the directory."""
