"""Template packs: the manifest and its prose, where packs are found, the user's store, safety checks."""
