"""Operations: the Prometheus ``/metrics`` endpoint, read from the state every process
shares (the database, Redis), so one scrape of any web process covers web and workers."""
