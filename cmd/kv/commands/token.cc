// kv token create TENANT | ls | revoke ID: bearer tokens of a kvd (over its
// Unix socket only: kvd refuses token administration over TCP).
#include "cmd/kv/commands/commands.h"

namespace kv::cli {

Status RunTokenCreate(const TokenOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<client::TokenInfo> token = backend->CreateToken(options.tenant);
  if (!token.ok()) return token.status();
  ctx.printer().TokenCreated(*token);
  return Status::Ok();
}

Status RunTokenList(const TokenOptions&, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Result<std::vector<client::TokenInfo>> tokens = backend->ListTokens();
  if (!tokens.ok()) return tokens.status();
  ctx.printer().Tokens(*tokens);
  return Status::Ok();
}

Status RunTokenRevoke(const TokenOptions& options, Context& ctx) {
  client::Backend* backend = nullptr;
  if (Status s = GetBackend(ctx, &backend); !s.ok()) return s;
  Status s = backend->RevokeToken(options.id);
  if (s.IsNotFound()) return Status::NotFound("no token with id " + options.id);
  if (!s.ok()) return s;
  ctx.printer().TokenRevoked(options.id);
  return Status::Ok();
}

void AddTokenCommand(CLI::App& app, Context& ctx) {
  CLI::App* token = app.add_subcommand("token", "Manage the bearer tokens of the local kvd");
  token->require_subcommand(1);
  {
    auto opts = std::make_shared<TokenOptions>();
    CLI::App* cmd = token->add_subcommand("create", "Create a token for TENANT; print it");
    cmd->add_option("tenant", opts->tenant, "The tenant the token acts as")->required();
    cmd->footer(
        "raw: the token alone (TOKEN=$(kv token create acme)); it is shown only this once.\n"
        "Use it with: KV_URL=http://127.0.0.1:PORT KV_TOKEN=kv_... kv get KEY\n"
        "JSON: {\"id\",\"tenant\",\"created_ms\",\"token\"}");
    OnRun(cmd, ctx, [opts, &ctx] { return RunTokenCreate(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<TokenOptions>();
    CLI::App* cmd = token->add_subcommand("ls", "List tokens (never their secrets)");
    cmd->alias("list");
    cmd->footer("raw: ID<TAB>TENANT<TAB>CREATED_MS. JSON: one {\"id\",\"tenant\",\"created_ms\"} "
                "per token.");
    OnRun(cmd, ctx, [opts, &ctx] { return RunTokenList(*opts, ctx); });
  }
  {
    auto opts = std::make_shared<TokenOptions>();
    CLI::App* cmd = token->add_subcommand("revoke", "Revoke a token; it stops working at once");
    cmd->add_option("id", opts->id, "The token's id (kv token ls)")->required();
    cmd->footer("Exit 1 when there is no such token. JSON: {\"id\",\"revoked\":true}");
    OnRun(cmd, ctx, [opts, &ctx] { return RunTokenRevoke(*opts, ctx); });
  }
}

}  // namespace kv::cli
