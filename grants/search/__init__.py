"""Search: one box that finds the applications (and project documents) a user may see, by
title, section text, partner organisation, call, funder or reference number (docs/search.md)."""
