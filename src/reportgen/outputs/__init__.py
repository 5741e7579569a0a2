"""Files reportgen writes: guarded drafts, batches, 汇总.xlsx, 整改台账, fill-in sheets, similarity reports."""
