-- Write args[1] requests for the URL's path at once; wrk counts them and waits for as many
-- responses before writing again: wrk -s pipeline.lua URL -- 16
function init(args)
  local depth = tonumber(args[1] or "16")
  local batch = {}
  for i = 1, depth do
    batch[i] = wrk.format()
  end
  pipelined = table.concat(batch)
end

function request()
  return pipelined
end
