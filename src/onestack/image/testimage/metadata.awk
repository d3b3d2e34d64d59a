# Flattens a JSON document (OpenStack's meta_data.json) into PATH=VALUE lines for the guest's
# shell, since busybox has no JSON tool. Objects nest with dots, arrays with indexes:
#   {"hostname": "vm1", "public_keys": {"k": "ssh-ed25519 AAAA... me\n"}, "keys": [{"a": 1}]}
# prints
#   hostname=vm1
#   public_keys.k=ssh-ed25519 AAAA... me
#   keys.0.a=1
# Escapes are decoded (\uXXXX above 0x7f becomes "?"); newlines inside a value become spaces and
# trailing spaces are trimmed, so every value fits on its line.

{ text = text $0 "\n" }

END {
    n = length(text)
    pos = 1
    value("")
}

function ws() {
    while (pos <= n && index(" \t\r\n", substr(text, pos, 1)) > 0)
        pos++
}

function hexval(h,    i, v) {
    v = 0
    h = tolower(h)
    for (i = 1; i <= length(h); i++)
        v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
    return v
}

function str(    c, e, out, code) {
    pos++  # the opening quote
    out = ""
    while (pos <= n) {
        c = substr(text, pos, 1)
        if (c == "\"") {
            pos++
            return out
        }
        if (c == "\\") {
            e = substr(text, pos + 1, 1)
            pos += 2
            if (e == "n" || e == "r" || e == "t")
                out = out " "
            else if (e == "b" || e == "f")
                out = out ""
            else if (e == "u") {
                code = hexval(substr(text, pos, 4))
                pos += 4
                out = out (code >= 32 && code < 127 ? sprintf("%c", code) : (code < 32 ? " " : "?"))
            } else
                out = out e
            continue
        }
        out = out c
        pos++
    }
    return out
}

function emit(path, v) {
    gsub(/[\r\n\t]/, " ", v)
    sub(/ +$/, "", v)
    print path "=" v
}

function join(prefix, key) {
    return prefix == "" ? key : prefix "." key
}

function value(prefix,    c, k, i, s) {
    ws()
    c = substr(text, pos, 1)
    if (c == "{") {
        pos++
        ws()
        if (substr(text, pos, 1) == "}") {
            pos++
            return
        }
        while (pos <= n) {
            ws()
            k = str()
            ws()
            pos++  # the colon
            value(join(prefix, k))
            ws()
            c = substr(text, pos, 1)
            pos++
            if (c != ",")
                return
        }
        return
    }
    if (c == "[") {
        pos++
        ws()
        if (substr(text, pos, 1) == "]") {
            pos++
            return
        }
        i = 0
        while (pos <= n) {
            value(join(prefix, i))
            i++
            ws()
            c = substr(text, pos, 1)
            pos++
            if (c != ",")
                return
        }
        return
    }
    if (c == "\"") {
        emit(prefix, str())
        return
    }
    s = ""
    while (pos <= n && index(",}] \t\r\n", substr(text, pos, 1)) == 0) {
        s = s substr(text, pos, 1)
        pos++
    }
    if (s != "null")
        emit(prefix, s)
}
