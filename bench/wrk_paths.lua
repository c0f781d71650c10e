-- wrk script for bench/crawl.py: request the paths listed in the file $WRK_PATHS in turn
-- (one path per line), so that a server that renders on demand renders a different page
-- each time instead of serving one cached page.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
