"""What infralint knows about third-party components: agents that need host access by design
(by_design.yaml)."""
