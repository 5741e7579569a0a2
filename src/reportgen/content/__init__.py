"""From a profile and a pack to the document model: facts, their phrases, variants, numbering, lint."""
