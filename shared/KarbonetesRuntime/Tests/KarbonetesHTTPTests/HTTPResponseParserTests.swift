import Foundation
import KarbonetesHTTP
import Testing

private func parseResponse(_ raw: String, to method: HTTPMethod = .get, pieceSize: Int = .max, closeAtEnd: Bool = false) throws
    -> (status: Int, body: String, pieces: Int)
{
    var parser = HTTPResponseParser()
    parser.expectResponse(to: method)
    let bytes = Array(raw.utf8)
    var offset = 0
    var status = 0
    var body = Data()
    var pieces = 0
    while true {
        switch try parser.next() {
        case .head(let head): status = head.status.code
        case .body(let data):
            body.append(data)
            pieces += 1
        case .end: return (status, String(decoding: body, as: UTF8.self), pieces)
        case .needMoreData:
            if offset >= bytes.count {
                guard closeAtEnd else { throw HTTPParseError.truncated(message: "response") }
                if case .end = try parser.finishOnEOF() { return (status, String(decoding: body, as: UTF8.self), pieces) }
            }
            let end = min(bytes.count, offset + pieceSize)
            parser.append(Array(bytes[offset..<end]))
            offset = end
        }
    }
}

@Suite("HTTP response parser")
struct HTTPResponseParserTests {
    @Test("reads bodies framed by Content-Length, chunks or the close, however the bytes are split", arguments: [1, 3, 1000])
    func framing(pieceSize: Int) throws {
        let length = try parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", pieceSize: pieceSize)
        #expect(length.status == 200 && length.body == "hello")
        let chunked = try parseResponse(
            "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n",
            pieceSize: pieceSize
        )
        #expect(chunked.status == 201 && chunked.body == "{\"a\":1}")
        let untilClose = try parseResponse("HTTP/1.0 200 OK\r\n\r\nall of it", pieceSize: pieceSize, closeAtEnd: true)
        #expect(untilClose.body == "all of it")
    }

    @Test("expects no body after HEAD, 204 and 304, and skips 100 Continue")
    func bodiless() throws {
        #expect(try parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", to: .head).body == "")
        #expect(try parseResponse("HTTP/1.1 204 No Content\r\n\r\n").status == 204)
        #expect(try parseResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").body == "")
        let afterContinue = try parseResponse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(afterContinue.status == 200 && afterContinue.body == "ok")
    }

    @Test("reports a response cut off before its end as truncated")
    func truncated() {
        #expect(throws: HTTPParseError.truncated(message: "response")) {
            try parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", closeAtEnd: true)
        }
    }

    @Test("rejects malformed status lines", arguments: ["HTTP/1.1 2000 OK\r\n\r\n", "HTTP/3 200 OK\r\n\r\n", "garbage\r\n\r\n"])
    func malformed(raw: String) {
        #expect(throws: HTTPParseError.self) { try parseResponse(raw) }
    }
}

@Suite("HTTP messages and router")
struct RouterTests {
    static func router() -> Router {
        var router = Router()
        router.add(.get, "/jobs") { _ in .text("list") }
        router.add(.post, "/jobs") { request in .text("created \(request.body.count)", status: .created) }
        return router
    }

    struct RouteCase: Sendable, CustomStringConvertible {
        var method: HTTPMethod
        var target: String
        var wantStatus: Int
        var wantAllow: String?
        var description: String { "\(method) \(target)" }
    }

    @Test("routes by exact path and method, 404 for unknown paths, 405 with Allow for other methods", arguments: [
        RouteCase(method: .get, target: "/jobs?limit=1", wantStatus: 200),
        RouteCase(method: .post, target: "/jobs", wantStatus: 201),
        RouteCase(method: .head, target: "/jobs", wantStatus: 200),
        RouteCase(method: .delete, target: "/jobs", wantStatus: 405, wantAllow: "GET, HEAD, POST"),
        RouteCase(method: .get, target: "/jobs/", wantStatus: 404),
        RouteCase(method: .get, target: "/", wantStatus: 404),
    ])
    func routes(testCase: RouteCase) async {
        let response = await Self.router().handle(HTTPRequest(method: testCase.method, target: testCase.target))
        #expect(response.status.code == testCase.wantStatus)
        #expect(response.headers["allow"] == testCase.wantAllow)
    }

    @Test("sends unknown paths to the fallback when there is one")
    func fallback() async {
        var router = Self.router()
        router.fallback { request in .text("fallback \(request.path)", status: .ok) }
        let response = await router.handle(HTTPRequest(method: .get, target: "/other"))
        guard case .bytes(let body) = response.body else { Issue.record("stream body"); return }
        #expect(String(decoding: body, as: UTF8.self) == "fallback /other")
    }

    @Test("looks headers up case-insensitively, keeps order and repeats, and replaces all occurrences")
    func headers() {
        var headers: HTTPHeaders = ["Content-Type": "a", "X-Multi": "1"]
        headers.add("x-multi", "2")
        #expect(headers["content-type"] == "a")
        #expect(headers.values(for: "X-MULTI") == ["1", "2"])
        headers.replaceOrAdd("X-Multi", "3")
        #expect(headers.values(for: "x-multi") == ["3"])
        headers.remove("CONTENT-TYPE")
        #expect(headers["Content-Type"] == nil && headers.count == 1)
        #expect(HTTPHeaders([("Connection", "keep-alive, Close")]).hasToken("close", in: "connection"))
    }

    @Test("encodes JSON responses with sorted keys and a JSON content type")
    func json() throws {
        struct Payload: Encodable { var b = 2; var a = "x/y" }
        let response = HTTPResponse.json(Payload(), status: .created)
        #expect(response.status == .created)
        #expect(response.headers["Content-Type"] == "application/json")
        guard case .bytes(let body) = response.body else { Issue.record("stream body"); return }
        #expect(String(decoding: body, as: UTF8.self) == #"{"a":"x/y","b":2}"#)
    }
}
