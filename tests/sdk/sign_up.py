"""Signs up a fresh customer on a live Obera server and prints its admin's access token
(for the status-conformance fuzzer). usage: python3 sign_up.py http://127.0.0.1:PORT"""

import json
import sys
import urllib.request
import uuid

body = json.dumps({
    "company_name": "Fuzz Ltd",
    "full_name": "Fuzz Admin",
    "email": f"fuzz-{uuid.uuid4().hex[:12]}@example.com",
    "password": "fuzzing password 1",
}).encode()
request = urllib.request.Request(f"{sys.argv[1]}/api/v1/auth/signup", data=body, headers={"content-type": "application/json"})
with urllib.request.urlopen(request) as response:
    print(json.load(response)["access_token"])
