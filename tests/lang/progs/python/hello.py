# hello: prints "hello" and a newline. Expected verdict: OK.
print("hello")
