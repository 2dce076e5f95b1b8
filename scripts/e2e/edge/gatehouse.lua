-- HAProxy 2.6 forward-auth action for Gatehouse: asks
-- /cdn-cgi/access/forward-auth about each request with core.httpclient and
-- leaves the answer in txn variables for haproxy.cfg to act on. The tests
-- run this file as it is; README shows the same.
local gatehouse = os.getenv("GATEHOUSE_ADDR") or "127.0.0.1:8080"

local function first(h, name)
  local v = h[name]
  if v == nil then return nil end
  return v[0]
end

core.register_action("gatehouse_auth", { "http-req" }, function(txn)
  local h = txn.http:req_get_headers()
  local headers = {
    ["host"] = { first(h, "host") or "" },
    -- The X-Original-* form: a sign-in then comes back as 401 with the
    -- host's sign-in start in Location, which sets its cookie itself.
    ["x-original-method"] = { txn.sf:method() },
    ["x-original-uri"] = { txn.sf:pathq() },
    ["x-forwarded-host"] = { first(h, "host") or "" },
    ["x-forwarded-proto"] = { "http" },
    ["x-forwarded-for"] = { txn.sf:src() },
  }
  for _, name in ipairs({ "cookie", "accept", "x-requested-with", "origin",
      "cf-access-client-id", "cf-access-client-secret", "user-agent" }) do
    local v = first(h, name)
    if v ~= nil then headers[name] = { v } end
  end
  local hc = core.httpclient()
  local res = hc:get({ url = "http://" .. gatehouse .. "/cdn-cgi/access/forward-auth", headers = headers, timeout = 10000 })
  if res == nil or res.status == nil then
    txn:set_var("txn.gh_status", 500)
    return
  end
  txn:set_var("txn.gh_status", res.status)
  local rh = res.headers or {}
  local function get(name)
    local v = rh[name]
    if v == nil then return "" end
    return v[0] or ""
  end
  txn:set_var("txn.gh_jwt", get("cf-access-jwt-assertion"))
  txn:set_var("txn.gh_email", get("cf-access-authenticated-user-email"))
  txn:set_var("txn.gh_location", get("location"))
  txn:set_var("txn.gh_cookie", get("set-cookie"))
  txn:set_var("txn.gh_body", res.body or "")
end)
