#include "tools/demogen/lib/values.hpp"

#include "tools/demogen/lib/timefmt.hpp"

namespace stampede::demogen {

namespace {

using K = column_kind;
using sv = std::string_view;

// Text pools: UTF-8 accents, apostrophes and double quotes on purpose.
constexpr sv first_names[] = {"José",  "Maria",    "João",     "Ana",      "Antônio",
                              "Francisca", "Luís", "Conceição", "Sebastião", "Márcia",
                              "Raimundo", "Fátima", "Gonçalo",  "Inês",     "Benedito",
                              "Luíza", "Thiago",   "Cláudia",  "Renê",     "Zuleica"};
constexpr sv last_names[] = {"da Silva", "dos Santos", "Oliveira",  "D'Ávila",   "da Conceição",
                             "Araújo",   "Gonçalves",  "Pereira",   "Brandão",   "Magalhães",
                             "Simões",   "Assunção",   "O'Connor",  "Lima",      "Sá",
                             "Gusmão",   "Ferreira",   "Nóbrega",   "Côrtes",    "Müller"};
constexpr sv company_kinds[] = {"Padaria",  "Comércio de Peças", "Oficina Mecânica",
                                "Farmácia", "Construtora",       "Auto Escola",
                                "Clínica",  "Mercearia",         "Restaurante",
                                "Transportes", "Contabilidade",  "Papelaria"};
constexpr sv company_names[] = {"São Jorge",     "Boa Esperança", "Conceição",  "Irmãos Lima",
                                "\"O Barateiro\"", "Nossa Senhora Aparecida",  "Pão & Cia",
                                "D'Ajuda",       "Bom Jesus",     "Três Marias", "Ipê Amarelo",
                                "Vó Tereza"};
constexpr sv company_suffixes[] = {"Ltda", "ME", "EIRELI", "S/A", "Ltda.", "EPP"};
constexpr sv streets[] = {"São João",        "Brasil",           "Tiradentes",
                          "XV de Novembro",  "Dom Pedro II",     "da Conceição",
                          "Marechal Deodoro", "Sete de Setembro", "José Bonifácio",
                          "das Acácias",     "Getúlio Vargas",   "Padre Anchieta",
                          "Barão do Rio Branco", "Santa Catarina", "Governador Celso Ramos",
                          "dos Imigrantes"};
constexpr sv districts[] = {"Centro",       "Jardim América", "Vila São José", "Bela Vista",
                            "Santa Cecília", "Conceição",     "Água Verde",    "São Cristóvão",
                            "Boqueirão",    "Itaquera",       "Jardim Paraíso", "Vila Operária",
                            "Ponta D'Areia", "Ribeirão da Ilha", "Três Barras"};
constexpr sv cities[] = {"São Paulo", "Curitiba",  "Joinville",      "Florianópolis",
                         "Criciúma",  "Maringá",   "Goiânia",        "Ribeirão Preto",
                         "Jaraguá do Sul", "Balneário Camboriú", "São José dos Pinhais"};
constexpr sv activities[] = {
    "Comércio varejista de mercadorias em geral",
    "Restaurantes e similares",
    "Cabeleireiros, manicure e pedicure",
    "Construção de edifícios",
    "Atividades de contabilidade",
    "Transporte escolar",
    "Desenvolvimento de programas de computador sob encomenda",
    "Serviços de engenharia",
    "Padaria e confeitaria com predominância de revenda",
    "Atividade médica ambulatorial restrita a consultas",
    "Manutenção e reparação de veículos automotores",
    "Ensino de idiomas (inglês, espanhol, \"libras\")",
};
constexpr sv revenues[] = {"IPTU",
                           "ISS Homologado",
                           "ISS Fixo (autônomos)",
                           "Taxa de Licença para Localização",
                           "Taxa de Coleta de Lixo",
                           "Contribuição de Melhoria",
                           "ITBI",
                           "Taxa de Vigilância Sanitária",
                           "Multa por infração à legislação tributária",
                           "Juros de mora s/ dívida ativa"};
constexpr sv memos[] = {
    "Contribuinte informou endereço \"novo\" no balcão",
    "Linha 1 da observação\nLinha 2 da observação",
    "Observação:\tverificar documentação pendente",
    "Ref. processo nº 123/2024 – São Paulo",
    "Isenção concedida (art. 15, §2º da Lei 1.234/2019)",
    "Cliente disse: 'não recebi o carnê'",
    "Endereço de correspondência:\r\nCaixa Postal 77\r\nCEP 88000-000",
    "Cobrança suspensa por decisão judicial; aguardar trânsito em julgado",
    "Valor revisado após vistoria in loco — área construída divergente",
    "Notificado por edital; AR devolvido (\"mudou-se\")",
    "Ação: ç ã õ é ü — acentuação completa",
    "\tRecuo inicial com tab e aspas 'simples' e \"duplas\"",
};
constexpr sv complements[] = {"Apto 12",      "Casa 2",        "Fundos",
                              "Bloco \"B\" – Apto 301", "Sala 5\tTérreo", "Lote 7, Quadra 3",
                              "Galpão D'Oeste", "Esquina c/ Rua São João"};
constexpr sv handles[] = {"jose.silva", "maria_santos", "joao.oliveira", "ana.davila",
                          "contato",    "financeiro",   "fiscal",        "adm.conceicao"};
constexpr sv domains[] = {"@exemplo.com.br", "@email.com", "@prefeitura.gov.br", "@empresa.net"};

void put_uint(std::string& out, std::uint64_t v) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) out.push_back(buf[--n]);
}

void put_zero_padded(std::string& out, std::uint64_t v, std::uint32_t digits) {
  const std::size_t at = out.size();
  out.resize(at + digits);
  for (std::uint32_t i = digits; i-- > 0;) {
    out[at + i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

void pad_to(std::string& out, std::size_t start, std::uint32_t width) {
  const std::size_t len = out.size() - start;
  if (len < width) out.append(width - len, ' ');
}

void put_decimal(std::string& out, std::int64_t units, std::uint32_t scale) {
  std::uint64_t u = units < 0 ? static_cast<std::uint64_t>(-(units + 1)) + 1
                              : static_cast<std::uint64_t>(units);
  if (units < 0) out.push_back('-');
  std::uint64_t div = 1;
  for (std::uint32_t i = 0; i < scale; ++i) div *= 10;
  put_uint(out, u / div);
  if (scale) {
    out.push_back('.');
    put_zero_padded(out, u % div, scale);
  }
}

inline bool null_hit(const column_def& c, rng& r, unsigned default_percent) {
  return c.nullable && r.percent(c.null_percent ? c.null_percent : default_percent);
}

}  // namespace

std::uint32_t code_digits(std::uint64_t n) {
  std::uint32_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d < 6 ? 6 : d;
}

void put_code(std::string& out, std::uint64_t n, std::uint32_t width) {
  const std::size_t start = out.size();
  put_zero_padded(out, n, code_digits(n));
  pad_to(out, start, width);
}

row_generator::row_generator(const service_def& s, const value_context& ctx)
    : s_(s), ctx_(ctx) {
  first_day_ = ctx.until_ms / ms_per_day - 730;
}

void row_generator::append(std::int64_t recno, rng& r, row_cells& out) const {
  row_state st;
  st.company = r.percent(30);
  for (const auto& c : s_.columns) value(c, recno, r, st, out);
}

void row_generator::fill_column(std::size_t col, std::int64_t recno, rng& r,
                                row_cells& out) const {
  row_state st;
  st.company = r.percent(30);
  value(s_.columns.at(col), recno, r, st, out);
}

void row_generator::value(const column_def& c, std::int64_t recno, rng& r, row_state& st,
                          row_cells& out) const {
  std::string& a = out.arena;
  cell cl;
  cl.t = cell::type::text;
  cl.off = static_cast<std::uint32_t>(a.size());
  auto null = [&] {
    cl.t = cell::type::null;
    out.cells.push_back(cl);
  };
  auto integer = [&](std::int64_t v) {
    cl.t = cell::type::integer;
    cl.i = v;
    out.cells.push_back(cl);
  };
  switch (c.kind) {
    case K::code:
      put_code(a, static_cast<std::uint64_t>(recno), c.width);
      break;
    case K::ref: {
      const std::uint32_t target = c.ref ? c.ref : st.origin;
      const std::uint64_t n = target < ctx_.ref_rows.size() ? ctx_.ref_rows[target] : 0;
      if (n == 0 || (null_hit(c, r, 20))) return null();
      put_code(a, 1 + r.below(n), c.width);
      break;
    }
    case K::origin: {
      const auto i = r.below(c.choices.size());
      st.origin = 19 + static_cast<std::uint32_t>(i);
      a += c.choices[i];
      pad_to(a, cl.off, c.width);
      break;
    }
    case K::taxpayer_name:
      if (st.company) {
        a += r.pick(company_kinds);
        a += ' ';
        a += r.pick(company_names);
        a += ' ';
        a += r.pick(company_suffixes);
      } else {
        a += r.pick(first_names);
        a += ' ';
        a += r.pick(last_names);
        if (r.percent(50)) {
          a += ' ';
          a += r.pick(last_names);
        }
      }
      break;
    case K::person_type:
      a += st.company ? 'J' : 'F';
      break;
    case K::document:
      if (st.company) {
        put_zero_padded(a, r.below(100'000'000'000'000ULL), 14);
      } else {
        put_zero_padded(a, r.below(100'000'000'000ULL), 11);
        a += "   ";
      }
      break;
    case K::company:
      if (null_hit(c, r, 30)) return null();
      a += r.pick(company_kinds);
      a += ' ';
      a += r.pick(company_names);
      if (r.percent(60)) {
        a += ' ';
        a += r.pick(company_suffixes);
      }
      break;
    case K::street:
      a += r.pick(streets);
      break;
    case K::district:
      a += r.pick(districts);
      if (r.percent(40)) {
        a += ' ';
        put_uint(a, 1 + r.below(9));
      }
      break;
    case K::city:
      a += r.pick(cities);
      break;
    case K::activity:
      a += r.pick(activities);
      break;
    case K::revenue:
      a += r.pick(revenues);
      break;
    case K::memo:
      if (null_hit(c, r, 45)) return null();
      a += r.pick(memos);
      if (r.percent(30)) {
        a += " #";
        put_uint(a, r.below(100000));
      }
      break;
    case K::complement:
      if (null_hit(c, r, 60)) return null();
      a += r.pick(complements);
      break;
    case K::house_number:
      if (r.percent(8)) {
        a += "S/N";
      } else {
        put_uint(a, 1 + r.below(9999));
      }
      break;
    case K::email:
      if (null_hit(c, r, 25)) return null();
      a += r.pick(handles);
      put_uint(a, r.below(1000));
      a += r.pick(domains);
      break;
    case K::postal:
      put_zero_padded(a, 10'000'000 + r.below(90'000'000), 8);
      break;
    case K::law:
      a += r.percent(30) ? "Lei Complementar nº " : "Lei nº ";
      put_uint(a, 1 + r.below(9));
      a += '.';
      put_zero_padded(a, r.below(1000), 3);
      a += '/';
      put_uint(a, 1990 + r.below(35));
      break;
    case K::service_item:
      put_zero_padded(a, 1 + r.below(40), 2);
      a += '.';
      put_zero_padded(a, 1 + r.below(20), 2);
      break;
    case K::agency:
      put_zero_padded(a, r.below(10000), 4);
      a += '-';
      put_uint(a, r.below(10));
      pad_to(a, cl.off, c.width);
      break;
    case K::month: {
      int y = 0;
      unsigned m = 0, d = 0;
      civil_from_days(ctx_.until_ms / ms_per_day, y, m, d);
      put_uint(a, static_cast<std::uint64_t>(y - 6) + r.below(7));
      put_zero_padded(a, 1 + r.below(12), 2);
      break;
    }
    case K::choice:
      a += c.choices[r.below(c.choices.size())];
      pad_to(a, cl.off, c.width);
      break;
    case K::decimal:
      put_decimal(a, r.between(c.min, c.max), c.scale);
      break;
    case K::integer:
      return integer(r.between(c.min, c.max));
    case K::date: {
      if (null_hit(c, r, 15)) {
        a.append(8, ' ');
        break;
      }
      const std::int64_t d0 = days_from_civil(static_cast<int>(c.min), 1, 1);
      const std::int64_t d1 = days_from_civil(static_cast<int>(c.max), 12, 31);
      put_date8(a, r.between(d0, d1));
      break;
    }
    case K::datetime:
      if (null_hit(c, r, 20)) return null();
      put_datetime(a, r.between(first_day_ * ms_per_day, ctx_.until_ms));
      break;
    case K::flag:
      a += r.percent(75) ? 'T' : 'F';
      break;
  }
  cl.len = static_cast<std::uint32_t>(a.size() - cl.off);
  out.cells.push_back(cl);
}

}  // namespace stampede::demogen
