// hello: prints "hello" and a newline. Expected verdict: OK.
'use strict';
console.log('hello');
