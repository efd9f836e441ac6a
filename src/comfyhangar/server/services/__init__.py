"""Services: the server's behaviour, between routers (HTTP) and the database and clouds."""
