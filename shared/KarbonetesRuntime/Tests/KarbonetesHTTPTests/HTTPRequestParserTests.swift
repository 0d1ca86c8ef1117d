import Foundation
import KarbonetesHTTP
import Testing

/// Parses `bytes` fed in pieces of `pieceSize` and returns every request, or the error.
private func parseAll(_ text: String, pieceSize: Int = .max, limits: HTTPParserLimits = HTTPParserLimits()) -> Result<[HTTPRequest], HTTPParseError> {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    let bytes = Array(text.utf8)
    var offset = 0
    do {
        repeat {
            let end = min(bytes.count, offset + max(pieceSize, 1))
            parser.append(Array(bytes[offset..<end]))
            offset = end
            while true {
                let event = try parser.next()
                if case .request(let request) = event { requests.append(request) } else if case .needMoreData = event { break }
            }
        } while offset < bytes.count
        return .success(requests)
    } catch let error as HTTPParseError {
        return .failure(error)
    } catch {
        fatalError("unexpected \(error)")
    }
}

struct ValidRequestCase: Sendable, CustomStringConvertible {
    var description: String
    var raw: String
    var wantMethods: [String]
    var wantPaths: [String]
    var wantBodies: [String]
    var wantQuery: [String: String] = [:]
}

let validRequests: [ValidRequestCase] = [
    ValidRequestCase(
        description: "a GET with a query",
        raw: "GET /apis/batch/v1/jobs?watch=1&labelSelector=a%3Db+c HTTP/1.1\r\nHost: x\r\n\r\n",
        wantMethods: ["GET"], wantPaths: ["/apis/batch/v1/jobs"], wantBodies: [""],
        wantQuery: ["watch": "1", "labelSelector": "a=b c"]
    ),
    ValidRequestCase(
        description: "a POST with Content-Length",
        raw: "POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\n",
        wantMethods: ["POST"], wantPaths: ["/mutate"], wantBodies: ["{\"a\":\"bc\"}\n"]
    ),
    ValidRequestCase(
        description: "a chunked body with an extension and a trailer",
        raw: "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n",
        wantMethods: ["PUT"], wantPaths: ["/x"], wantBodies: ["hello world"]
    ),
    ValidRequestCase(
        description: "two pipelined requests",
        raw: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
        wantMethods: ["GET", "POST"], wantPaths: ["/a", "/b"], wantBodies: ["", "hi"]
    ),
    ValidRequestCase(
        description: "bare LF line endings and an HTTP/1.0 request without Host",
        raw: "GET /old HTTP/1.0\nUser-Agent: t\n\n",
        wantMethods: ["GET"], wantPaths: ["/old"], wantBodies: [""]
    ),
    ValidRequestCase(
        description: "a leading empty line before the request line",
        raw: "\r\nDELETE /j HTTP/1.1\r\nHost: x\r\n\r\n",
        wantMethods: ["DELETE"], wantPaths: ["/j"], wantBodies: [""]
    ),
]

@Suite("HTTP request parser")
struct HTTPRequestParserTests {
    @Test("parses valid requests whole and fed one byte at a time", arguments: validRequests, [Int.max, 1, 7])
    func parsesValidRequests(testCase: ValidRequestCase, pieceSize: Int) throws {
        let requests = try parseAll(testCase.raw, pieceSize: pieceSize).get()
        #expect(requests.map(\.method.rawValue) == testCase.wantMethods)
        #expect(requests.map(\.path) == testCase.wantPaths)
        #expect(requests.map { String(decoding: $0.body, as: UTF8.self) } == testCase.wantBodies)
        for (name, value) in testCase.wantQuery {
            #expect(requests.first?.query(name) == value)
        }
    }

    struct RejectCase: Sendable, CustomStringConvertible {
        var description: String
        var raw: String
        var wantStatus: Int
        var limits = HTTPParserLimits(requestLineBytes: 64, headerBytes: 128, bodyBytes: 16)
    }

    static let rejected: [RejectCase] = [
        RejectCase(description: "request line over the limit", raw: "GET /\(String(repeating: "a", count: 100)) HTTP/1.1\r\n\r\n", wantStatus: 414),
        RejectCase(description: "request line over the limit with no newline yet", raw: "GET /\(String(repeating: "a", count: 100))", wantStatus: 414),
        RejectCase(description: "headers over the limit", raw: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 200))\r\n\r\n", wantStatus: 431),
        RejectCase(description: "many small headers over the limit", raw: "GET / HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 40), wantStatus: 431),
        RejectCase(description: "Content-Length over the body limit", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n", wantStatus: 413),
        RejectCase(description: "chunked body over the limit", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n", wantStatus: 413),
        RejectCase(description: "HTTP/1.1 without Host", raw: "GET / HTTP/1.1\r\n\r\n", wantStatus: 400),
        RejectCase(description: "two spaces in the request line", raw: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 400),
        RejectCase(description: "a method with a bad character", raw: "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 400),
        RejectCase(description: "a target that is not a path", raw: "GET abc HTTP/1.1\r\nHost: x\r\n\r\n", wantStatus: 400),
        RejectCase(description: "both Content-Length and Transfer-Encoding", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", wantStatus: 400),
        RejectCase(description: "conflicting Content-Length values", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", wantStatus: 400),
        RejectCase(description: "a negative Content-Length", raw: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", wantStatus: 400),
        RejectCase(description: "a folded header line", raw: "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", wantStatus: 400),
        RejectCase(description: "a space before the colon", raw: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", wantStatus: 400),
        RejectCase(description: "a header without a colon", raw: "GET / HTTP/1.1\r\nHost x\r\n\r\n", wantStatus: 400),
        RejectCase(description: "a control character in a value", raw: "GET / HTTP/1.1\r\nHost: a\u{1}b\r\n\r\n", wantStatus: 400),
        RejectCase(description: "an invalid chunk size", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantStatus: 400),
        RejectCase(description: "chunk data not followed by CRLF", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", wantStatus: 400),
        RejectCase(description: "an unsupported transfer coding", raw: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", wantStatus: 501),
        RejectCase(description: "HTTP/2.0 in the request line", raw: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", wantStatus: 505),
        RejectCase(description: "garbage instead of a version", raw: "GET / HTTQ\r\n\r\n", wantStatus: 400),
    ]

    @Test("rejects oversized and malformed requests with the status the server answers", arguments: rejected)
    func rejects(testCase: RejectCase) {
        switch parseAll(testCase.raw, limits: testCase.limits) {
        case .success(let requests):
            Issue.record("parsed \(requests.count) request(s) instead of failing")
        case .failure(let error):
            #expect(error.status.code == testCase.wantStatus, "\(error)")
            #expect(error.description.hasPrefix("HTTP request"))
        }
    }

    @Test("stays failed after an error, so the server answers once and closes")
    func staysFailed() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.append(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test("asks for 100 Continue once when the body has not arrived")
    func expectContinue() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        guard case .continueExpected = try parser.next() else { Issue.record("no continue event"); return }
        guard case .needMoreData = try parser.next() else { Issue.record("continue reported twice"); return }
        #expect(parser.isMidRequest)
        parser.append(Array("abc".utf8))
        guard case .request(let request) = try parser.next() else { Issue.record("no request"); return }
        #expect(request.body == Data("abc".utf8))
        #expect(!parser.isMidRequest)
    }

    @Test("keeps HTTP/1.1 connections alive unless asked to close, and HTTP/1.0 only when asked", arguments: [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
    ])
    func keepAlive(raw: String, want: Bool) throws {
        let request = try #require(try parseAll(raw).get().first)
        #expect(request.wantsKeepAlive == want)
    }
}
