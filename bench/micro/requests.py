"""Inputs shared by the micro-benchmarks."""

# What a browser sends for a page: a query string and 12 headers, about 700 bytes.
BROWSER_REQUEST = (
    b"GET /search/caf%C3%A9?q=ruvicorn&lang=en HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/124.0.0.0 Safari/537.36\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    b"*/*;q=0.8\r\n"
    b"Accept-Language: en-GB,en;q=0.9,fr;q=0.8\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=4f2a9c1e7b3d4e5f8a9b0c1d2e3f4a5b; theme=dark; consent=yes\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b"Sec-Fetch-Site: same-origin\r\n"
    b"Cache-Control: max-age=0\r\n"
    b"\r\n"
)
BROWSER_HEADER_COUNT = 12
