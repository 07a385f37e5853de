// The official TypeScript SDK's client (@modelcontextprotocol/sdk, pinned in package.json),
// as the test suite drives it: connect, list every tool (following nextCursor), optionally
// call one tool, print one JSON line, close.
//
//   node sdk-client.mjs URL http|sse [TOOL ARGUMENTS_JSON]
//
// "http" is Streamable HTTP (URL ends in /mcp), "sse" the legacy HTTP+SSE transport (URL
// ends in /sse). Exit status 0 when everything answered; errors go to stderr, status 1.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, kind, toolName, argumentsJson] = process.argv.slice(2);
const transport =
  kind === "sse"
    ? new SSEClientTransport(new URL(url))
    : new StreamableHTTPClientTransport(new URL(url));
const client = new Client({ name: "mcpgen-tests", version: "0.0.0" });

try {
  await client.connect(transport);
  const tools = [];
  let cursor;
  for (let page = 0; page < 100; page += 1) {
    const answer = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...answer.tools);
    cursor = answer.nextCursor;
    if (cursor === undefined) break;
  }
  const out = {
    server: client.getServerVersion(),
    protocol: transport.protocolVersion ?? null,
    tools: tools.map((tool) => tool.name),
  };
  if (toolName) {
    out.call = await client.callTool({ name: toolName, arguments: JSON.parse(argumentsJson ?? "{}") });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await client.close();
} catch (error) {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exitCode = 1;
  await client.close().catch(() => {});
}
