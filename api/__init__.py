"""HTTP API, SPARQL endpoint, web pages and CLI of budgetkg."""
