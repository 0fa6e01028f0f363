-- Cycles through a realistic mix of requests: pages, assets, compressed, missing, revalidated.
local paths = {
  {"/", {}},
  {"/architecture/", {["Accept-Encoding"] = "br, gzip"}},
  {"/search/search_index.json", {["Accept-Encoding"] = "br, gzip"}},
  {"/assets/images/favicon.png", {}},
  {"/no-such-page/", {["Accept-Encoding"] = "gzip"}},
  {"/architecture", {}},
  {"/", {["If-Modified-Since"] = "Fri, 01 Jan 2100 00:00:00 GMT"}},
  {"/", {["Range"] = "bytes=0-99"}},
}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i][1], paths[i][2])
end
