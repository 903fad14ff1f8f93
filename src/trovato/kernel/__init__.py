"""The kernel: the services one process builds at start, the request pipeline (middleware,
routing of plugin menu paths, the page cache) and the error responses."""
