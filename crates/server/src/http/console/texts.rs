//! What the console says, in English and Simplified Chinese (the language the sign-in pages
//! chose for the request), and the sentence an error shows next to its field.

use crate::error::{Error, ParamProblem};

/// Every sentence of the console in one language.
pub struct ConsoleTexts {
    pub console: &'static str,
    pub users: &'static str,
    pub search: &'static str,
    pub search_label: &'static str,
    pub match_label: &'static str,
    pub match_name: &'static str,
    pub match_nick: &'static str,
    pub match_email: &'static str,
    pub match_phone: &'static str,
    pub any_role: &'static str,
    pub any_status: &'static str,
    pub role: &'static str,
    pub status: &'static str,
    pub next: &'static str,
    pub previous: &'static str,
    pub no_users: &'static str,
    pub new_user: &'static str,
    pub user_id: &'static str,
    pub user_name: &'static str,
    pub nick_name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub description: &'static str,
    pub password: &'static str,
    pub create: &'static str,
    pub save: &'static str,
    pub lock: &'static str,
    pub unlock: &'static str,
    pub confirm_lock: &'static str,
    pub change_role: &'static str,
    pub send_reset: &'static str,
    pub require_new_password: &'static str,
    pub groups: &'static str,
    pub drives: &'static str,
    pub none: &'static str,
    pub done: &'static str,
    pub sign_out: &'static str,
    pub admins_only_title: &'static str,
    pub admins_only: &'static str,
    pub enabled: &'static str,
    pub disabled: &'static str,
    pub top: &'static str,
    pub new_group: &'static str,
    pub group_name: &'static str,
    pub rename: &'static str,
    pub move_to: &'static str,
    pub move_: &'static str,
    pub delete: &'static str,
    pub confirm_delete: &'static str,
    pub add_user: &'static str,
    pub add: &'static str,
    pub remove: &'static str,
    pub subgroups: &'static str,
    pub members: &'static str,
}

pub static EN: ConsoleTexts = ConsoleTexts {
    console: "Console",
    users: "Users",
    search: "Search",
    search_label: "Find users",
    match_label: "Match",
    match_name: "Name starts with",
    match_nick: "Nick name contains",
    match_email: "E-mail starts with",
    match_phone: "Phone starts with",
    any_role: "Any role",
    any_status: "Any status",
    role: "Role",
    status: "Status",
    next: "Next page",
    previous: "Previous page",
    no_users: "No users match.",
    new_user: "New user",
    user_id: "User id",
    user_name: "User name",
    nick_name: "Nick name",
    email: "E-mail",
    phone: "Phone",
    description: "Description",
    password: "Password",
    create: "Create",
    save: "Save",
    lock: "Lock",
    unlock: "Unlock",
    confirm_lock: "Yes, lock this user and end its sessions",
    change_role: "Change role",
    send_reset: "Send a password reset",
    require_new_password: "Require a new password at next sign-in",
    groups: "Groups",
    drives: "Drives",
    none: "None.",
    done: "Done.",
    sign_out: "Sign out",
    admins_only_title: "For administrators",
    admins_only: "The console is for administrators. Ask an administrator of your directory if you need something changed.",
    enabled: "enabled",
    disabled: "locked",
    top: "Top of the tree",
    new_group: "New group here",
    group_name: "Group name",
    rename: "Rename",
    move_to: "Move under (group id, empty: top)",
    move_: "Move",
    delete: "Delete",
    confirm_delete: "Yes, delete this group",
    add_user: "Add user (user id)",
    add: "Add",
    remove: "Remove",
    subgroups: "Subgroups",
    members: "Members",
};

pub static ZH: ConsoleTexts = ConsoleTexts {
    console: "管理控制台",
    users: "用户",
    search: "搜索",
    search_label: "查找用户",
    match_label: "匹配方式",
    match_name: "用户名开头为",
    match_nick: "昵称包含",
    match_email: "邮箱开头为",
    match_phone: "手机号开头为",
    any_role: "全部角色",
    any_status: "全部状态",
    role: "角色",
    status: "状态",
    next: "下一页",
    previous: "上一页",
    no_users: "没有匹配的用户。",
    new_user: "新建用户",
    user_id: "用户 ID",
    user_name: "用户名",
    nick_name: "昵称",
    email: "邮箱",
    phone: "手机号",
    description: "描述",
    password: "密码",
    create: "创建",
    save: "保存",
    lock: "锁定",
    unlock: "解锁",
    confirm_lock: "确认锁定该用户并结束其会话",
    change_role: "修改角色",
    send_reset: "发送密码重置邮件",
    require_new_password: "下次登录时要求设置新密码",
    groups: "用户组",
    drives: "网盘",
    none: "无。",
    done: "已完成。",
    sign_out: "退出登录",
    admins_only_title: "仅限管理员",
    admins_only: "管理控制台仅供管理员使用。如需修改，请联系目录管理员。",
    enabled: "正常",
    disabled: "已锁定",
    top: "顶层",
    new_group: "在此新建用户组",
    group_name: "用户组名称",
    rename: "重命名",
    move_to: "移动到（用户组 ID，留空为顶层）",
    move_: "移动",
    delete: "删除",
    confirm_delete: "确认删除该用户组",
    add_user: "添加用户（用户 ID）",
    add: "添加",
    remove: "移除",
    subgroups: "子用户组",
    members: "成员",
};

impl ConsoleTexts {
    /// The console's texts in the sign-in pages' language (`lang` attribute).
    pub fn for_lang(lang: &str) -> &'static ConsoleTexts {
        if lang.starts_with("zh") {
            &ZH
        } else {
            &EN
        }
    }

    /// The field an error concerns (a form field's name), if it names one.
    pub fn field_of(e: &Error) -> Option<&str> {
        match e {
            Error::InvalidParameter { name, .. } => Some(name.as_str()),
            _ => None,
        }
    }

    /// A sentence for a person, never the wire's JSON.
    pub fn sentence(&self, e: &Error) -> String {
        let zh = std::ptr::eq(self, &ZH);
        match e {
            Error::InvalidParameter {
                problem,
                name,
                rule,
                ..
            } => {
                let what = match (problem, zh) {
                    (ParamProblem::Missing, false) => format!("{name} is required"),
                    (ParamProblem::Missing, true) => format!("{name} 为必填项"),
                    (_, false) => format!("{name} is not valid"),
                    (_, true) => format!("{name} 的值无效"),
                };
                match rule {
                    Some(rule) => format!("{what} ({rule})."),
                    None => format!("{what}."),
                }
            }
            Error::AlreadyExists(_) if zh => "已存在同名对象。".into(),
            Error::AlreadyExists(_) => "That already exists.".into(),
            Error::NotFound(_) if zh => "未找到。".into(),
            Error::NotFound(_) => "Not found.".into(),
            Error::Forbidden(_) if zh => "你无权执行此操作。".into(),
            Error::Forbidden(_) => "You are not allowed to do this.".into(),
            Error::Conflict(why) if zh => format!("无法执行：{why}。"),
            Error::Conflict(why) => format!("Not done: {why}."),
            Error::QuotaExhausted(_) if zh => "已达到域的配额。".into(),
            Error::QuotaExhausted(_) => "The domain's quota is reached.".into(),
            _ if zh => "操作失败，请稍后重试。".into(),
            _ => "Something failed; try again later.".into(),
        }
    }
}
