"""Rule machinery: metadata, the declarative compiler, and the check interface.

Nothing here knows any particular rule; ``infralint.catalog`` gathers them.
"""
