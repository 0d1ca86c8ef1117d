/// The escaping and number spelling of the text exposition format 0.0.4.
enum PrometheusText {
    /// Label values escape `\`, `"` and newline.
    static func appendEscapedLabelValue(_ value: String, to out: inout String) {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    /// HELP text escapes `\` and newline only.
    static func appendEscapedHelp(_ help: String, to out: inout String) {
        for scalar in help.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    /// Whole numbers without a fraction (`3`, not `3.0`), the rest as Swift's shortest
    /// round-tripping spelling, and Prometheus' `+Inf`, `-Inf` and `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(value)
    }
}
