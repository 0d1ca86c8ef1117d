import KarbonetesModels
import Testing

@Suite("Go-style durations")
struct GoDurationTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        var text: String
        var wantSeconds: Double
        var testDescription: String { text }
    }

    @Test("valid durations parse as Go parses them", arguments: [
        Valid(text: "6h", wantSeconds: 21_600),
        Valid(text: "90m", wantSeconds: 5_400),
        Valid(text: "1h30m", wantSeconds: 5_400),
        Valid(text: "1.5h", wantSeconds: 5_400),
        Valid(text: "2h45m30s", wantSeconds: 9_930),
        Valid(text: "300ms", wantSeconds: 0.3),
        Valid(text: "1h0.5m", wantSeconds: 3_630),
        Valid(text: "0", wantSeconds: 0),
        Valid(text: "10us", wantSeconds: 0.00001),
        Valid(text: "10µs", wantSeconds: 0.00001),
        Valid(text: "+5s", wantSeconds: 5),
    ])
    func parsesValid(_ valid: Valid) throws {
        let duration = try GoDuration(parsing: valid.text)
        #expect(abs(duration.timeInterval - valid.wantSeconds) < 1e-9)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var text: String
        var wantMessage: String
        var testDescription: String { "\"\(text)\"" }
    }

    @Test("bad durations are rejected with a message that names the problem", arguments: [
        Invalid(text: "", wantMessage: "empty duration"),
        Invalid(text: "abc", wantMessage: "invalid duration \"abc\""),
        Invalid(text: "-1h", wantMessage: "negative duration \"-1h\""),
        Invalid(text: "10", wantMessage: "missing unit"),
        Invalid(text: "5d", wantMessage: "unknown unit \"d\""),
        Invalid(text: "3000000h", wantMessage: "too long"),
        Invalid(text: "99999999999999999999s", wantMessage: "too long"),
        Invalid(text: "h", wantMessage: "invalid duration"),
        Invalid(text: "1h-", wantMessage: "unknown unit \"h-\""),
        Invalid(text: ".h", wantMessage: "invalid duration"),
    ])
    func rejectsInvalid(_ invalid: Invalid) {
        #expect {
            _ = try GoDuration(parsing: invalid.text)
        } throws: { error in
            String(describing: error).contains(invalid.wantMessage)
        }
    }

    @Test("negative durations parse only when asked for")
    func negativeWhenAllowed() throws {
        #expect(try GoDuration(parsing: "-1h30m", allowNegative: true) == GoDuration(nanoseconds: -5_400_000_000_000))
    }

    @Test("durations print as Go prints them", arguments: [
        ("1h30m", "1h30m0s"), ("90s", "1m30s"), ("500ms", "500ms"), ("6h", "6h0m0s"), ("1.5s", "1.5s"), ("0", "0s"),
    ])
    func printsLikeGo(_ pair: (String, String)) throws {
        #expect(try GoDuration(parsing: pair.0).description == pair.1)
    }
}
