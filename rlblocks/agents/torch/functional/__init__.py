"""Pure maths shared by every agent: returns, losses. No state, no config objects."""
