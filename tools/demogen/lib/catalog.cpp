// The 22 services of the demo database (Tributos -> Portal do Gestor).
#include "tools/demogen/lib/demogen.hpp"

#include <algorithm>
#include <cmath>

namespace stampede::demogen {

namespace {

using K = column_kind;

// Code widths: small services CHAR(8), large services CHAR(12).
constexpr std::uint32_t small_code = 8;
constexpr std::uint32_t large_code = 12;

std::string char_t(std::uint32_t w) { return "CHAR(" + std::to_string(w) + ")"; }
std::string varchar_t(std::uint32_t w) { return "VARCHAR(" + std::to_string(w) + ")"; }

column_def col(std::string name, std::string sql, K kind, std::string field) {
  column_def c;
  c.name = std::move(name);
  c.sql_type = std::move(sql);
  c.kind = kind;
  c.field = std::move(field);
  return c;
}

column_def code(std::string name, std::uint32_t width, std::string field) {
  column_def c = col(std::move(name), char_t(width), K::code, std::move(field));
  c.width = width;
  return c;
}
// Reference to service `svc`; width = that service's code width.
column_def ref(std::string name, std::uint32_t svc, std::string field, bool nullable = false) {
  const std::uint32_t w = svc >= 19 ? large_code : small_code;
  column_def c = col(std::move(name), char_t(w), K::ref, std::move(field));
  c.width = w;
  c.ref = svc;
  c.nullable = nullable;
  return c;
}
column_def text(std::string name, K kind, std::uint32_t len, std::string field,
                bool nullable = false) {
  column_def c = col(std::move(name), len ? varchar_t(len) : "TEXT", kind, std::move(field));
  c.nullable = nullable;
  return c;
}
column_def fixed(std::string name, K kind, std::uint32_t width, std::string field) {
  column_def c = col(std::move(name), char_t(width), kind, std::move(field));
  c.width = width;
  return c;
}
// width 0: VARCHAR, not padded.
column_def choice(std::string name, std::uint32_t width, std::vector<std::string> values,
                  std::string field) {
  std::uint32_t longest = 0;
  for (const auto& v : values) longest = std::max<std::uint32_t>(longest, v.size());
  column_def c = col(std::move(name), width ? char_t(width) : varchar_t(longest), K::choice,
                     std::move(field));
  c.width = width;
  c.choices = std::move(values);
  return c;
}
// Amount in [lo, hi] units of 10^-scale, stored as TEXT ("DECIMAL(p,s)").
column_def dec(std::string name, std::uint32_t precision, std::uint32_t scale, std::int64_t lo,
               std::int64_t hi, std::string field) {
  column_def c = col(std::move(name), "TEXT", K::decimal, std::move(field));
  c.precision = precision;
  c.scale = scale;
  c.min = lo;
  c.max = hi;
  return c;
}
column_def integer(std::string name, std::int64_t lo, std::int64_t hi, std::string field) {
  column_def c = col(std::move(name), "INTEGER", K::integer, std::move(field));
  c.min = lo;
  c.max = hi;
  return c;
}
column_def date(std::string name, int y0, int y1, std::string field, bool nullable = false) {
  column_def c = col(std::move(name), char_t(8), K::date, std::move(field));
  c.width = 8;
  c.min = y0;
  c.max = y1;
  c.nullable = nullable;
  return c;
}
column_def datetime(std::string name, std::string field, bool nullable = false) {
  column_def c = col(std::move(name), "VARCHAR(19)", K::datetime, std::move(field));
  c.nullable = nullable;
  return c;
}
column_def flag(std::string name, std::string field) {
  column_def c = col(std::move(name), char_t(1), K::flag, std::move(field));
  c.width = 1;
  return c;
}
column_def rare(column_def c, std::uint32_t null_percent) {
  c.null_percent = null_percent;
  return c;
}
column_def mut(column_def c) {
  c.mutable_ = true;
  return c;
}

service_def svc(std::uint32_t id, std::string name, std::string table, std::string title,
                std::vector<column_def> cols) {
  service_def s;
  s.id = id;
  s.name = std::move(name);
  s.table = std::move(table);
  s.large = id >= 19;
  s.title = std::move(title);
  s.columns = std::move(cols);
  return s;
}

const std::vector<std::string> credit_status{"A", "P", "C", "D"};  // aberto pago cancelado dívida

std::vector<service_def> build() {
  std::vector<service_def> v;
  v.push_back(svc(1, "taxpayers", "CONTRIBUINTES", "Contribuintes", {
      code("CT_CODIGO", small_code, "code"),
      mut(text("CT_NOME", K::taxpayer_name, 80, "name")),
      fixed("CT_TIPO", K::person_type, 1, "personType"),
      fixed("CT_CPFCNPJ", K::document, 14, "document"),
      mut(text("CT_EMAIL", K::email, 80, "email", true)),
      ref("CT_LOGRAD", 4, "address.streetCode"),
      text("CT_NUMERO", K::house_number, 10, "address.number"),
      ref("CT_BAIRRO", 5, "address.districtCode"),
      fixed("CT_CEP", K::postal, 8, "address.postalCode"),
      text("CT_CIDADE", K::city, 40, "address.city"),
      date("CT_DTNASC", 1940, 2006, "birthDate", true),
      mut(flag("CT_ATIVO", "active")),
      datetime("CT_DTHRINC", "createdAt"),
      mut(text("CT_OBS", K::memo, 0, "notes", true)),
  }));
  v.push_back(svc(2, "properties", "IMOVEIS", "Imóveis", {
      code("IM_INSCR", small_code, "registration"),
      mut(ref("IM_CONTRIB", 1, "ownerCode")),
      ref("IM_LOGRAD", 4, "address.streetCode"),
      text("IM_NUMERO", K::house_number, 10, "address.number"),
      mut(text("IM_COMPL", K::complement, 40, "address.complement", true)),
      ref("IM_BAIRRO", 5, "address.districtCode"),
      ref("IM_LOTEAM", 10, "subdivisionCode", true),
      ref("IM_ZONA", 9, "valueZoneCode"),
      mut(dec("IM_AREATER", 12, 2, 10000, 500000, "landArea")),
      mut(dec("IM_AREACON", 12, 2, 0, 80000, "builtArea")),
      mut(dec("IM_VLVENAL", 15, 2, 1500000, 250000000, "assessedValue")),
      choice("IM_USO", 1, {"R", "C", "I", "T"}, "use"),
      date("IM_DTCAD", 1985, 2024, "registeredOn"),
      mut(text("IM_OBS", K::memo, 0, "notes", true)),
  }));
  v.push_back(svc(3, "economic_registrations", "ECONOMICOS", "Cadastro econômico", {
      code("EC_INSCR", small_code, "registration"),
      ref("EC_CONTRIB", 1, "taxpayerCode"),
      mut(text("EC_RAZAO", K::company, 100, "legalName")),
      mut(text("EC_FANTASIA", K::company, 100, "tradeName", true)),
      ref("EC_ATIVID", 6, "activityCode"),
      ref("EC_IMOVEL", 2, "propertyCode", true),
      date("EC_DTABERT", 1990, 2024, "openedOn"),
      mut(date("EC_DTENCER", 2015, 2025, "closedOn", true)),
      flag("EC_MEI", "microEntrepreneur"),
      mut(choice("EC_SITUAC", 1, {"A", "S", "B"}, "status")),
      mut(integer("EC_EMPREG", 0, 250, "employees")),
  }));
  v.push_back(svc(4, "streets", "LOGRADOUROS", "Logradouros", {
      code("LG_CODIGO", small_code, "code"),
      choice("LG_TIPO", 3, {"RUA", "AV", "TV", "PCA", "AL", "EST"}, "streetType"),
      mut(text("LG_NOME", K::street, 60, "name")),
      ref("LG_BAIRRO", 5, "districtCode"),
      fixed("LG_CEP", K::postal, 8, "postalCode"),
      mut(dec("LG_EXTENS", 10, 2, 5000, 850000, "lengthMeters")),
      mut(flag("LG_PAVIM", "paved")),
      date("LG_DTLEI", 1950, 2024, "lawDate", true),
  }));
  v.push_back(svc(5, "districts", "BAIRROS", "Bairros", {
      code("BA_CODIGO", small_code, "code"),
      mut(text("BA_NOME", K::district, 60, "name")),
      choice("BA_ZONA", 3, {"URB", "RUR"}, "area"),
      mut(integer("BA_SETOR", 1, 40, "sector")),
      date("BA_DTCRIA", 1900, 2020, "createdOn"),
      mut(text("BA_OBS", K::memo, 0, "notes", true)),
  }));
  v.push_back(svc(6, "activities", "ATIVIDADES", "Atividades (CNAE)", {
      code("AT_CODIGO", small_code, "code"),
      mut(text("AT_DESCR", K::activity, 120, "description")),
      choice("AT_GRUPO", 3, {"COM", "IND", "SER", "AGR"}, "group"),
      mut(dec("AT_ALIQ", 5, 4, 200, 500, "issRate")),
      mut(choice("AT_RISCO", 5, {"BAIXO", "MEDIO", "ALTO"}, "riskLevel")),
      flag("AT_ATIVO", "active"),
  }));
  v.push_back(svc(7, "revenues", "RECEITAS", "Receitas", {
      code("RC_CODIGO", small_code, "code"),
      mut(text("RC_DESCR", K::revenue, 80, "description")),
      choice("RC_TIPO", 3, {"IMP", "TAX", "CON"}, "revenueType"),
      integer("RC_CONTA", 411120000, 411129999, "accountCode"),
      integer("RC_EXERC", 2018, 2025, "fiscalYear"),
      mut(flag("RC_ATIVO", "active")),
  }));
  v.push_back(svc(8, "service_items", "LISTA_SERVICOS", "Lista de serviços (LC 116)", {
      code("LS_CODIGO", small_code, "code"),
      fixed("LS_ITEM", K::service_item, 5, "item"),
      mut(text("LS_DESCR", K::activity, 120, "description")),
      mut(dec("LS_ALIQ", 5, 4, 200, 500, "rate")),
      flag("LS_DEDUZ", "allowsDeduction"),
      date("LS_DTVIG", 2004, 2024, "validFrom"),
  }));
  v.push_back(svc(9, "value_zones", "ZONAS_FISCAIS", "Zonas fiscais (planta de valores)", {
      code("ZF_CODIGO", small_code, "code"),
      mut(text("ZF_DESCR", K::district, 60, "description")),
      mut(dec("ZF_VLM2TER", 12, 2, 2000, 350000, "landValuePerM2")),
      mut(dec("ZF_VLM2CON", 12, 2, 50000, 600000, "buildingValuePerM2")),
      integer("ZF_EXERC", 2018, 2025, "fiscalYear"),
  }));
  v.push_back(svc(10, "subdivisions", "LOTEAMENTOS", "Loteamentos", {
      code("LT_CODIGO", small_code, "code"),
      mut(text("LT_NOME", K::district, 60, "name")),
      ref("LT_BAIRRO", 5, "districtCode"),
      ref("LT_RESPONS", 1, "ownerCode"),
      mut(integer("LT_LOTES", 10, 800, "lots")),
      mut(dec("LT_AREA", 14, 2, 500000, 90000000, "area")),
      date("LT_DTAPROV", 1970, 2024, "approvedOn"),
  }));
  v.push_back(svc(11, "economic_indexes", "INDEXADORES", "Indexadores econômicos", {
      code("IX_CODIGO", small_code, "code"),
      choice("IX_SIGLA", 5, {"UFM", "IPCA", "IGPM", "SELIC", "UFIR"}, "symbol"),
      fixed("IX_COMPET", K::month, 6, "period"),
      mut(dec("IX_VALOR", 18, 6, 1, 999999999, "value")),
      date("IX_DTPUBL", 2015, 2025, "publishedOn"),
  }));
  v.push_back(svc(12, "collection_agents", "AGENTES_ARRECADADORES", "Agentes arrecadadores", {
      code("AG_CODIGO", small_code, "code"),
      choice("AG_BANCO", 3, {"001", "104", "237", "341", "033", "748", "756"}, "bankNumber"),
      mut(choice("AG_NOME", 0, {"Banco do Brasil S.A.", "Caixa Econômica Federal",
                                "Bradesco S.A.", "Itaú Unibanco S.A.", "Santander (Brasil) S.A.",
                                "Sicredi", "Sicoob \"Crediserv\""}, "name")),
      fixed("AG_AGENCIA", K::agency, 6, "branch"),
      integer("AG_CONVENIO", 100000, 9999999, "agreementNumber"),
      mut(dec("AG_TARIFA", 8, 2, 150, 450, "fee")),
      mut(flag("AG_ATIVO", "active")),
  }));
  v.push_back(svc(13, "fiscal_notices", "NOTIFICACOES", "Notificações fiscais", {
      code("NT_NUMERO", small_code, "number"),
      ref("NT_CONTRIB", 1, "taxpayerCode"),
      ref("NT_IMOVEL", 2, "propertyCode", true),
      choice("NT_TIPO", 3, {"NOT", "AIF"}, "noticeType"),
      mut(dec("NT_VALOR", 15, 2, 5000, 5000000, "amount")),
      date("NT_DTEMIS", 2018, 2025, "issuedOn"),
      mut(date("NT_DTCIENC", 2018, 2025, "acknowledgedOn", true)),
      mut(text("NT_TEXTO", K::memo, 0, "text", true)),
      datetime("NT_DTHRREG", "registeredAt"),
  }));
  v.push_back(svc(14, "exemptions", "ISENCOES", "Isenções", {
      code("IS_CODIGO", small_code, "code"),
      ref("IS_IMOVEL", 2, "propertyCode"),
      ref("IS_CONTRIB", 1, "taxpayerCode"),
      choice("IS_MOTIVO", 4, {"APOS", "DEFI", "TEMP", "ENTI"}, "reason"),
      mut(dec("IS_PERC", 5, 2, 1000, 10000, "percent")),
      date("IS_DTINI", 2015, 2025, "startsOn"),
      mut(date("IS_DTFIM", 2020, 2030, "endsOn", true)),
      text("IS_LEI", K::law, 40, "legalBasis"),
  }));
  v.push_back(svc(15, "permits", "ALVARAS", "Alvarás", {
      code("AV_NUMERO", small_code, "number"),
      ref("AV_ECONOM", 3, "economicRegistration"),
      choice("AV_TIPO", 3, {"LOC", "SAN", "PUB", "AMB"}, "permitType"),
      date("AV_DTEMIS", 2015, 2025, "issuedOn"),
      mut(date("AV_DTVALID", 2024, 2027, "validUntil")),
      mut(choice("AV_SITUAC", 1, {"V", "C", "S"}, "status")),
      mut(choice("AV_HORARIO", 0, {"08:00-18:00", "07:00-22:00", "24 horas", "Seg. a sáb."},
                 "openingHours")),
      mut(text("AV_OBS", K::memo, 0, "notes", true)),
  }));
  v.push_back(svc(16, "administrative_processes", "PROCESSOS", "Processos administrativos", {
      code("PR_NUMERO", small_code, "number"),
      integer("PR_ANO", 2015, 2025, "year"),
      ref("PR_CONTRIB", 1, "taxpayerCode"),
      choice("PR_ASSUNTO", 0, {"Revisão de lançamento de IPTU", "Pedido de isenção",
                               "Restituição de ISS", "Certidão negativa de débitos",
                               "Parcelamento de dívida"}, "subject"),
      datetime("PR_DTABERT", "openedAt"),
      mut(choice("PR_SITUAC", 8, {"ABERTO", "ANALISE", "DEFERIDO", "INDEFER"}, "status")),
      mut(text("PR_PARECER", K::memo, 0, "opinion", true)),
  }));
  v.push_back(svc(17, "active_debts", "DIVIDA_ATIVA", "Dívida ativa", {
      code("DA_NUMERO", small_code, "number"),
      ref("DA_CONTRIB", 1, "taxpayerCode"),
      ref("DA_IMOVEL", 2, "propertyCode", true),
      ref("DA_RECEITA", 7, "revenueCode"),
      integer("DA_EXERC", 2010, 2024, "fiscalYear"),
      dec("DA_VLORIG", 15, 2, 1000, 2500000, "originalAmount"),
      mut(dec("DA_VLATUAL", 15, 2, 1000, 5000000, "updatedAmount")),
      date("DA_DTINSC", 2011, 2025, "inscribedOn"),
      integer("DA_LIVRO", 1, 90, "book"),
      integer("DA_FOLHA", 1, 300, "page"),
      mut(choice("DA_SITUAC", 1, {"A", "P", "C", "E"}, "status")),
      mut(flag("DA_AJUIZ", "filedInCourt")),
  }));
  v.push_back(svc(18, "installment_agreements", "PARCELAMENTOS", "Parcelamentos", {
      code("PC_NUMERO", small_code, "number"),
      ref("PC_CONTRIB", 1, "taxpayerCode"),
      ref("PC_DIVIDA", 17, "debtNumber"),
      integer("PC_QTPARC", 2, 60, "installments"),
      mut(dec("PC_VLTOTAL", 15, 2, 10000, 9000000, "totalAmount")),
      dec("PC_VLENTR", 15, 2, 0, 500000, "downPayment"),
      date("PC_DTACORDO", 2018, 2025, "agreedOn"),
      mut(choice("PC_SITUAC", 7, {"ATIVO", "QUITADO", "CANCEL"}, "status")),
      mut(datetime("PC_DTHRALT", "changedAt", true)),
  }));
  v.push_back(svc(19, "iptu_credits", "CREDITOS_IPTU", "Créditos de IPTU", {
      code("CI_NUMERO", large_code, "number"),
      ref("CI_CONTRIB", 1, "taxpayerCode"),
      ref("CI_IMOVEL", 2, "propertyCode"),
      ref("CI_RECEITA", 7, "revenueCode"),
      integer("CI_EXERC", 2018, 2025, "fiscalYear"),
      integer("CI_PARCELA", 0, 10, "installment"),
      mut(dec("CI_VALOR", 15, 2, 1000, 1500000, "amount")),
      mut(dec("CI_DESCONTO", 15, 2, 0, 50000, "discount")),
      date("CI_VENCTO", 2018, 2026, "dueOn"),
      mut(choice("CI_SITUAC", 1, credit_status, "status")),
      datetime("CI_DTHRLANC", "assessedAt"),
      mut(rare(text("CI_OBS", K::memo, 0, "notes", true), 90)),
  }));
  v.push_back(svc(20, "iss_credits", "CREDITOS_ISS", "Créditos de ISS", {
      code("CS_NUMERO", large_code, "number"),
      ref("CS_CONTRIB", 1, "taxpayerCode"),
      ref("CS_ECONOM", 3, "economicRegistration"),
      ref("CS_ATIVID", 6, "activityCode"),
      fixed("CS_COMPET", K::month, 6, "period"),
      mut(dec("CS_BASE", 15, 2, 10000, 50000000, "taxBase")),
      dec("CS_ALIQ", 5, 4, 200, 500, "rate"),
      mut(dec("CS_VALOR", 15, 2, 200, 2500000, "amount")),
      date("CS_VENCTO", 2018, 2026, "dueOn"),
      mut(choice("CS_SITUAC", 1, credit_status, "status")),
      mut(flag("CS_HOMOLOG", "approved")),
      mut(rare(text("CS_OBS", K::memo, 0, "notes", true), 90)),
  }));
  v.push_back(svc(21, "permit_credits", "CREDITOS_ALVARA", "Créditos de alvará", {
      code("CA_NUMERO", large_code, "number"),
      ref("CA_CONTRIB", 1, "taxpayerCode"),
      ref("CA_ECONOM", 3, "economicRegistration"),
      ref("CA_ALVARA", 15, "permitNumber"),
      ref("CA_RECEITA", 7, "revenueCode"),
      integer("CA_EXERC", 2018, 2025, "fiscalYear"),
      mut(dec("CA_VALOR", 15, 2, 5000, 800000, "amount")),
      date("CA_VENCTO", 2018, 2026, "dueOn"),
      mut(choice("CA_SITUAC", 1, credit_status, "status")),
      mut(date("CA_DTPAGTO", 2018, 2025, "paidOn", true)),
  }));
  column_def origin = choice("PG_ORIGEM", 4, {"IPTU", "ISS", "ALV"}, "creditType");
  origin.kind = K::origin;
  v.push_back(svc(22, "payments", "PAGAMENTOS", "Pagamentos (baixas)", {
      code("PG_NUMERO", large_code, "number"),
      ref("PG_CONTRIB", 1, "taxpayerCode"),
      origin,
      ref("PG_CREDITO", 0, "creditNumber"),
      ref("PG_AGENTE", 12, "agentCode"),
      date("PG_DTPAGTO", 2018, 2025, "paidOn"),
      date("PG_DTCRED", 2018, 2025, "creditedOn"),
      mut(dec("PG_VALOR", 15, 2, 1000, 2500000, "amount")),
      mut(dec("PG_JUROS", 15, 2, 0, 20000, "interest")),
      dec("PG_MULTA", 15, 2, 0, 10000, "fine"),
      mut(datetime("PG_DTHRBAIXA", "settledAt")),
  }));
  // PG_CREDITO refers to a large service (credits): width of large codes.
  auto& pg = v.back().columns[3];
  pg.width = large_code;
  pg.sql_type = char_t(large_code);
  return v;
}

}  // namespace

std::string_view to_string(errc e) {
  switch (e) {
    case errc::bad_options: return "bad_options";
    case errc::missing_database: return "missing_database";
    case errc::missing_table: return "missing_table";
    case errc::sqlite_failure: return "sqlite_failure";
    case errc::io_failure: return "io_failure";
  }
  return "unknown";
}

std::string_view field_type_of(const column_def& c) {
  switch (c.kind) {
    case K::decimal: return "decimal";
    case K::integer: return "integer";
    case K::date: return "date";
    case K::datetime: return "datetime";
    case K::flag: return "boolean";
    default: return "string";
  }
}

const std::vector<service_def>& services() {
  static const std::vector<service_def> all = build();
  return all;
}

const service_def* find_service(std::uint32_t id) {
  const auto& all = services();
  return id >= 1 && id <= all.size() ? &all[id - 1] : nullptr;
}

std::uint64_t planned_rows(const service_def& s, double scale) {
  const double base = s.large ? 24000.0 : 240.0;
  const long long n = std::llround(base * scale);
  return n < 1 ? 1 : static_cast<std::uint64_t>(n);
}

std::string create_table_sql(const service_def& s) {
  std::string sql = "CREATE TABLE " + s.table + " (\n";
  for (const auto& c : s.columns) sql += "  " + c.name + " " + c.sql_type + ",\n";
  sql +=
      "  D_E_L_E_T_ CHAR(1) NOT NULL DEFAULT ' ',\n"
      "  R_E_C_N_O_ INTEGER PRIMARY KEY,\n"
      "  S_T_A_M_P_ TEXT NOT NULL\n)";
  return sql;
}

std::string stamp_index_name(const service_def& s) { return s.table + "_STAMP"; }

}  // namespace stampede::demogen
