# The same everyday commands as ./dev, for make users.
.PHONY: run test worker migrate check
run:
	./dev run
test:
	./dev test
worker:
	./dev worker
migrate:
	./dev migrate
check:
	./dev manage check
