# Shared by the curl examples: the API's base URL, requests that stop the script with the API's answer
# on a refusal, and a JSON field picker (node, so nothing else is needed).
B="${IOMMU_LAB_URL:-http://127.0.0.1:4100}/api/v1"
call() {
  local out
  if ! out=$(curl -s --fail-with-body "$@"); then
    echo "error: ${out:-no answer from $B}" >&2
    exit 1
  fi
  echo "$out"
}
post() { call -X POST "$B$1" -H 'content-type: application/json' -d "${2:-{\}}"; }
get() { call "$B$1"; }
# pick '<JS expression over v>' < json
pick() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{if(!s)process.exit(1);const v=JSON.parse(s);const r=new Function("v","return ("+process.argv[1]+")")(v);console.log(typeof r==="string"?r:JSON.stringify(r))})' "$1"; }
