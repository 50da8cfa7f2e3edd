#!/bin/sh
# Calls the second service by its compose service name.
echo "Content-Type: text/plain"
echo ""
echo "web says: $(wget -qO- http://api:8080/index.html)"
