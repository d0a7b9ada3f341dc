"""Delivery of a submission to the funder: by email (with retries, exactly once) or through the
funder's portal (the lead records the receipt). See docs/delivery.md."""
