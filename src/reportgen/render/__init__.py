"""The document model laid out: Word (.docx, through the pack's Word template) and Markdown."""
