// Imported first by the experiment scripts: rtc-node logs at debug level unless
// NODE_ENV is production (its logger reads the variable when it is loaded).
process.env.NODE_ENV ??= 'production';
