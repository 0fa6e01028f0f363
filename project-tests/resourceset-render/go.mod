module hello-world/tests/resourceset-render

go 1.19
