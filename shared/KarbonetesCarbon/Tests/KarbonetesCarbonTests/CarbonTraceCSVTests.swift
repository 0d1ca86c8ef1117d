import Foundation
import KarbonetesCarbon
import Testing

@Suite("Reading trace CSV files")
struct CarbonTraceCSVTests {
    struct GoodCase: Sendable, CustomStringConvertible {
        var description: String
        var csv: String
        var column: String?
        var wantTimes: [String]
        var wantIntensities: [Double]
    }

    static let emHeader = "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh (direct),Carbon Intensity gCO₂eq/kWh (LCA),Renewable Percentage"

    static let goodCases: [GoodCase] = [
        GoodCase(
            description: "Electricity Maps export reads the LCA column by default",
            csv: "\(emHeader)\n2022-01-01 00:00:00,Spain,Spain,ES,133.64,175.54,42.94\n2022-01-01 01:00:00,Spain,Spain,ES,139.1,181.54,41.62\n",
            wantTimes: ["2022-01-01T00:00:00Z", "2022-01-01T01:00:00Z"], wantIntensities: [175.54, 181.54]),
        GoodCase(
            description: "a fragment such as 'direct' chooses the one column it names",
            csv: "\(emHeader)\n2022-01-01 00:00:00,Spain,Spain,ES,133.64,175.54,42.94\n2022-01-01 01:00:00,Spain,Spain,ES,139.1,181.54,41.62\n",
            column: "direct", wantTimes: ["2022-01-01T00:00:00Z", "2022-01-01T01:00:00Z"], wantIntensities: [133.64, 139.1]),
        GoodCase(
            description: "an ASCII 2 in place of the subscript names the same column",
            csv: "\(emHeader)\n2022-01-01 00:00:00,Spain,Spain,ES,133.64,175.54,42.94\n2022-01-01 01:00:00,Spain,Spain,ES,139.1,181.54,41.62\n",
            column: "carbon intensity gCO2eq/kWh (direct)", wantTimes: ["2022-01-01T00:00:00Z", "2022-01-01T01:00:00Z"],
            wantIntensities: [133.64, 139.1]),
        GoodCase(
            description: "quoted fields may hold commas, doubled quotes and newlines; CRLF and a BOM are accepted",
            csv: "\u{FEFF}\(emHeader)\r\n2022-01-01 00:00:00,\"Spain, mainland\",\"The \"\"Peninsula\"\"\",ES,1,\"175.5\",2\r\n"
                + "\"2022-01-01 01:00:00\",\"multi\nline\",Spain,ES,1,181,2\r\n",
            wantTimes: ["2022-01-01T00:00:00Z", "2022-01-01T01:00:00Z"], wantIntensities: [175.5, 181]),
        GoodCase(
            description: "ENTSO-E style Time,Carbon Intensity with blank lines and RFC 3339 times",
            csv: "Time,Carbon Intensity\n2019-12-20 00:00:00,120.99\n\n2019-12-20T00:30:00Z,135.08\n2019-12-20T02:00:00+01:00,141.35\n",
            wantTimes: ["2019-12-20T00:00:00Z", "2019-12-20T00:30:00Z", "2019-12-20T01:00:00Z"],
            wantIntensities: [120.99, 135.08, 141.35]),
    ]

    @Test("well-formed files give their points in order", arguments: goodCases)
    func parsesGoodFiles(_ testCase: GoodCase) throws {
        let trace = try CarbonTrace.parseCSV(Data(testCase.csv.utf8), source: "case.csv", column: testCase.column)
        #expect(trace.points.map(\.time) == testCase.wantTimes.map(utc))
        #expect(trace.points.map(\.intensity) == testCase.wantIntensities)
    }

    @Test(
        "the format is detected from the header",
        arguments: [
            (["Datetime (UTC)", "Carbon Intensity gCO₂eq/kWh (LCA)"], CarbonTraceFormat.electricityMaps),
            (["Time", "Carbon Intensity"], .entsoe),
            ([" time ", "CARBON INTENSITY"], .entsoe),
            (["Datetime (UTC)", "Carbon Intensity"], nil),
            (["timestamp", "value"], nil),
        ] as [([String], CarbonTraceFormat?)])
    func detectsFormat(header: [String], want: CarbonTraceFormat?) {
        #expect(CarbonTraceFormat.detect(header: header) == want)
    }

    struct BadCase: Sendable, CustomStringConvertible {
        var description: String
        var csv: String
        var column: String? = nil
        var wantLine: Int?
        var wantColumn: Int?
        var wantText: String
    }

    static let badCases: [BadCase] = [
        BadCase(
            description: "a time that is not a time", csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\nyesterday,2\n",
            wantLine: 3, wantColumn: 1, wantText: "\"yesterday\" is not a UTC time"),
        BadCase(
            description: "an impossible date", csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\n2021-02-29 00:00:00,2\n",
            wantLine: 3, wantColumn: 1, wantText: "\"2021-02-29 00:00:00\""),
        BadCase(
            description: "an intensity that is not a number",
            csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\n2020-01-01 00:30:00,12g\n",
            wantLine: 3, wantColumn: 2, wantText: "column \"Carbon Intensity\": \"12g\" is not a non-negative number"),
        BadCase(
            description: "an empty intensity", csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,\n2020-01-01 00:30:00,1\n",
            wantLine: 2, wantColumn: 2, wantText: "\"\" is not a non-negative number"),
        BadCase(
            description: "a negative intensity", csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\n2020-01-01 00:30:00,-4\n",
            wantLine: 3, wantColumn: 2, wantText: "\"-4\""),
        BadCase(
            description: "a row too short for the intensity column",
            csv: "\(emHeader)\n2022-01-01 00:00:00,Spain,Spain,ES,1,2,3\n2022-01-01 01:00:00,Spain,Spain\n",
            wantLine: 3, wantColumn: 6, wantText: "the row ends before this field"),
        BadCase(
            description: "a duplicate time", csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\n2020-01-01 00:00:00,2\n",
            wantLine: 3, wantColumn: 1, wantText: "is not after the time on line 2"),
        BadCase(
            description: "rows out of order", csv: "Time,Carbon Intensity\n2020-01-01 01:00:00,1\n2020-01-01 00:00:00,2\n",
            wantLine: 3, wantColumn: 1, wantText: "increasing time order"),
        BadCase(
            description: "a quote never closed", csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\n\"2020-01-01 01:00:00,2\n",
            wantLine: 3, wantColumn: nil, wantText: "never closed"),
        BadCase(
            description: "an unknown header", csv: "timestamp,value\n2020-01-01 00:00:00,1\n",
            wantLine: 1, wantColumn: nil, wantText: "unknown trace format: the header [\"timestamp\", \"value\"]"),
        BadCase(
            description: "a chosen column that does not exist",
            csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\n2020-01-01 00:30:00,2\n", column: "marginal",
            wantLine: 1, wantColumn: nil, wantText: "no column \"marginal\""),
        BadCase(
            description: "a header without rows", csv: "Time,Carbon Intensity\n2020-01-01 00:00:00,1\n",
            wantLine: nil, wantColumn: nil, wantText: "at least two points"),
        BadCase(description: "an empty file", csv: "", wantLine: 1, wantColumn: nil, wantText: "the trace is empty"),
    ]

    @Test("a malformed file fails with an error naming the file, line and column", arguments: badCases)
    func rejectsBadFiles(_ testCase: BadCase) {
        do {
            _ = try CarbonTrace.parseCSV(Data(testCase.csv.utf8), source: "bad.csv", column: testCase.column)
            Issue.record("parsed a malformed file")
        } catch let error as CarbonTraceError {
            #expect(error.file == "bad.csv")
            #expect(error.line == testCase.wantLine)
            #expect(error.column == testCase.wantColumn)
            let place = ["bad.csv", testCase.wantLine.map(String.init), testCase.wantColumn.map(String.init)].compactMap { $0 }.joined(separator: ":")
            #expect(error.description.hasPrefix(place + ": "), "\(error.description)")
            #expect(error.description.contains(testCase.wantText), "\(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a missing file is an error naming the path")
    func missingFile() {
        #expect {
            try CarbonTrace.load(contentsOfFile: "/nonexistent/trace.csv")
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/trace.csv: cannot read the trace")
        }
    }

    struct ShippedCase: Sendable, CustomStringConvertible {
        var name: String
        var wantCount: Int
        var wantStep: TimeInterval
        var wantFirst: Double
        var wantLast: Double
        var description: String { name }
    }

    @Test(
        "every shipped trace loads with its row count, step and end values",
        arguments: [
            ShippedCase(name: "electricitymaps_US-CAL-CISO_2022_hourly.csv", wantCount: 8760, wantStep: 3600, wantFirst: 274.07, wantLast: 273.15),
            ShippedCase(name: "electricitymaps_ES_2022_hourly.csv", wantCount: 8760, wantStep: 3600, wantFirst: 175.54, wantLast: 104.82),
            ShippedCase(name: "electricitymaps_NO_2022_hourly.csv", wantCount: 8760, wantStep: 3600, wantFirst: 63.03, wantLast: 65.27),
            ShippedCase(name: "entsoe_GB_2020_30min.csv", wantCount: 21980, wantStep: 1800, wantFirst: 120.99546661944396, wantLast: 259.10496059694674),
        ])
    func loadsShippedTraces(_ testCase: ShippedCase) throws {
        let trace = try ShippedTraces.load(testCase.name)
        #expect(trace.points.count == testCase.wantCount)
        #expect(trace.step == testCase.wantStep)
        #expect(trace.points.first?.intensity == testCase.wantFirst)
        #expect(trace.points.last?.intensity == testCase.wantLast)
        #expect(trace.end == trace.points[trace.points.count - 1].time.addingTimeInterval(testCase.wantStep))
    }
}
