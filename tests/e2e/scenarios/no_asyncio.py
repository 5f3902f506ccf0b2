# A Python program with no asyncio at all: no report file, nothing on stderr.
# expect-no-report
import json
import threading

out = []
th = threading.Thread(target=lambda: out.append(json.dumps({"sum": sum(range(10))})))
th.start()
th.join()
print(out[0])
