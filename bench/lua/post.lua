-- POST a body of args[1] bytes to the URL's path: wrk -s post.lua URL -- 1024
function init(args)
  wrk.method = "POST"
  wrk.body = string.rep("x", tonumber(args[1] or "1024"))
  wrk.headers["Content-Type"] = "application/octet-stream"
end
