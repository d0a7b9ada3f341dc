"""The portfolio: applications by state, funder, county and year, requested and granted money
and the success rate, for coordinators and steering group members (docs/portfolio.md)."""
