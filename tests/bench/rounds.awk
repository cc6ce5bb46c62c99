# rounds.awk: awk functions run.sh and content.sh put in front of the
# programs that read their loadgen lines (not run alone).

# The value of key=VALUE among the words of line, or "".
function field(line, key,    n, i, kv) {
    n = split(line, kv, " ")
    for (i = 1; i <= n; i++)
        if (index(kv[i], key "=") == 1)
            return substr(kv[i], length(key) + 2)
    return ""
}

# The median of the values v[k, 1..c[k]] (sorted in place; a few rounds).
function median(v, c, k,    i, j, t, m) {
    m = c[k]
    for (i = 2; i <= m; i++)
        for (j = i; j > 1 && v[k, j - 1] + 0 > v[k, j] + 0; j--) {
            t = v[k, j]; v[k, j] = v[k, j - 1]; v[k, j - 1] = t
        }
    return m % 2 ? v[k, (m + 1) / 2] : (v[k, m / 2] + v[k, m / 2 + 1]) / 2
}
